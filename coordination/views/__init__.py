"""The coordination pages: the start page, referrals, the action plan and coordination meetings."""
