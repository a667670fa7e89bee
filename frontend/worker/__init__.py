"""The workers' pages: sign-up, home, labelling, leaderboard, history, instructions."""
