"""The app's stacks: one pipeline stack per environment."""
