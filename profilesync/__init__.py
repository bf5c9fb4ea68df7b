"""profilesync: people profiles imported from, and written back to, LDAP directories."""
