"""Files in, one validated dataset out. load is the entry point (load_files); read opens the
file (encodings, delimiters, formats), sample and detect find the columns' roles and the phase
values, sql builds the casts and cleaning, check counts what is set aside, report is the
validation report a user reads.
"""
