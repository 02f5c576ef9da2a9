"""The Textual dashboard: the app, its screens and widgets; it reads the store and never fetches."""
