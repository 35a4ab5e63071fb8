"""An integration's status: state, budget, problems and the operation log."""
