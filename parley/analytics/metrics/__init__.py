"""Support metrics computed from conversation facts."""
