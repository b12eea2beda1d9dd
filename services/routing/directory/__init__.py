"""The directory of government: sectors, entities and departments, governorates, complaint
classifications, staff with their roles and permissions, and the log of every change to it."""
