"""The violation catalogue: what a camera can report, its legal basis and maximum fine."""
