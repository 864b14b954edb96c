"""Business rules shared by the web pages, the JSON API and the CLI.

Each service takes plain values and a session, stages its changes and never commits: the
request or the CLI command that called it commits once.
"""
