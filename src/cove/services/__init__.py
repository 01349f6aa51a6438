"""One front end per API: each package holds its handlers and their registration only."""
