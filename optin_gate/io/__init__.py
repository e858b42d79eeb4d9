"""Reading users' files and frames: encoding, delimiter, header names (issue 3)."""
