"""The REST API (``/api/v1/``): people search, profiles, fields and sync runs, with an OpenAPI document."""
