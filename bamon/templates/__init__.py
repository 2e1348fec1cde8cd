"""Check templates: a command with typed `{param}` placeholders, reusable by many checks.

A script with `template: NAME` and `params: {...}` gets its command from the template, with each
parameter's value checked against its type and shell-quoted (bamon/templates/expand.py). The
catalog (catalog.py) holds the built-in library (library/*.yaml, shipped in the package), the
operator's files in templates.d/ and the `templates:` section of config.yaml, later ones winning.
The loader expands templates before validation, so everything after it — the schema check, the
model, the generator — sees an ordinary script with a command.
"""
