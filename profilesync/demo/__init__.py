"""The demo installation: generated people in a private slapd."""
