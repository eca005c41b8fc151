"""Who may see what: roles, row scopes and field visibility (the one access policy), and users' tokens."""
