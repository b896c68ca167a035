"""The Exchange 2007 WebDAV / Outlook Web Access front end over the shared store."""
