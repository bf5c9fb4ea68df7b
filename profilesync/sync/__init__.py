"""The LDAP import: map, diff and write profiles; record every run."""
