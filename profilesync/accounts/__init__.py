"""Who may sign in and what they may do: roles, directory login, login throttling."""
