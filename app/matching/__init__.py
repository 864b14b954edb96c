"""The matching engine (金融产品智能匹配): product rules as data, evaluated for many needs at once.

- `rules`: the registry of rules, firm attributes and operators, keyed by name.
- `spec`: validation of a product's rules (what a lender admin may set).
- `tables`: needs and products as column arrays.
- `engine`: the vectorised evaluation, one bit per failed rule and pair.
- `explain`: each rule's result and its sentence for one pair.
- `apr`: the annualised total cost by the IRR method.
- `odds`: approval odds calibrated from past decisions, and their reliability table.
- `fit`: the documented fit that orders eligible pairs.

Nothing here touches the database or the request: services feed it plain values.
"""
