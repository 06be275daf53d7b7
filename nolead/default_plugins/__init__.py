"""Built-in plugins: executors and renderers registered through the same hooks as any plugin."""
