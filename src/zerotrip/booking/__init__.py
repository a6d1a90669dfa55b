"""booking: sites, slots and appointments (vaccination self-booking) that never overbook under a rush."""
