"""The kit and the demo site in a real browser: Debian's Chromium driven by Playwright."""
