"""Marketing Cloud connector: Journey Builder activities, data extensions, write-back."""
