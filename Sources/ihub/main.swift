print("ihub")
