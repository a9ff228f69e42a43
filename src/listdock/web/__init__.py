"""Server-rendered web pages and the widget embed runtime."""
