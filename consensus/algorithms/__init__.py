"""Pure consensus algorithms: arrays and shapes in, numbers out. No Django import here."""
