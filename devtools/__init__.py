"""Development tools, apart from the product: the demo's generated pictures and seed data, the
simulated crowd, and the workers' pages' screenshots. Nothing in the product imports this app;
it is installed only so that its management commands (seed_demo, simulate_crowd, demo_images)
are there."""
