"""The command line: thin commands (parse, call a service, render), registered in main."""
