"""State-dict converters from other libraries' layouts into the zoo's."""
