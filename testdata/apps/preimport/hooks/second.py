import os

os.environ["CARAFE_IMPORTED"] = os.environ.get("CARAFE_IMPORTED", "") + "second,"
