"""The HTTP face: the JSON API, the pages supporters reach from e-mails. Flask lives here only."""
