"""The vehicle registry (Regident/ERI): vehicles, their registered owners, ownership history."""
