"""Credit scoring: the records a score reads, the features built from them, reasons in words.

`features` is the one feature-building module: training (training/) and online scoring both
call it, so what a model learned from and what it is served are built the same way.
"""
