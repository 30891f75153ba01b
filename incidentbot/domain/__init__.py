"""The domain: the record's classes (``models``, mapped with SQLAlchemy) and the rules of
incident response, which need neither a database session nor Slack.

Each rule module is a function of its inputs (times, text, the record's objects); the services
apply them inside a unit of work and the adapters show their results.
"""
