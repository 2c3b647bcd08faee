pytest_plugins = ["revu_widgets.fake.pytest_plugin"]
