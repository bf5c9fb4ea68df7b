"""Writing profile fields back to the directory, and the "Save and test connection" panel."""
