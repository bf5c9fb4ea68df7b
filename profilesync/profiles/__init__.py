"""Profile fields, profiles, pictures and the people pages."""
