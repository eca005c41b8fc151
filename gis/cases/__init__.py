"""Cases: the lifecycle, intake, reading, actions with versions, and history."""
