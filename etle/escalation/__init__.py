"""The daily deadlines job: overdue cases, the registration block list, and lifting blocks."""
