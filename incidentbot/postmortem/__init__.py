"""The postmortem document: rendered from a Jinja2 template (``render``), checked against a
sample incident (``sample``), and reviewed for blame wherever it was written
(``review_document``)."""
