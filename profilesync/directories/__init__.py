"""User directories: their configuration, vendor defaults and stored secrets."""
