"""The reviewers' web console: server-rendered pages (Jinja2), driven from the keyboard."""
