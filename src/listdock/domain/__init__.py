"""Domain models of the listdock metadata store."""
