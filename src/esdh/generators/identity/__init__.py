"""Identity generators: person names, gender, e-mail, phone, US postal address and driver licence.

Data comes from the bundled vocabularies (``esdh/packs/vocab``, see ``SOURCES.md`` there): name
frequencies from faker's en_US lists (SSA baby names, US Census surnames), ZIP codes from the
``zipcodes`` package, state populations from the 2020 Census.

Coherence works through groups: generators of one group in one table draw from one stream, so
``first_name`` and ``gender`` (group ``person_name``) agree on the sex of a row, and every ``address``
field (group ``address``) of a row comes from the same ZIP record. A table with two people or two
addresses gives the second set of columns another ``group`` parameter.

Strings are assembled without per-row Python: pieces are indices into a small vocabulary array,
one Arrow ``take`` lays every row's pieces out back to back, and the row strings are that buffer
with every k-th offset (``text._join``); fixed-width codes are byte matrices (``text._to_strings``).
"""

from esdh.generators.identity.address import Address
from esdh.generators.identity.email import Email
from esdh.generators.identity.licence import DRIVER_LICENSE_FORMATS, DriverLicense
from esdh.generators.identity.names import FirstName, Gender, LastName
from esdh.generators.identity.phone import Phone

__all__ = [
    "DRIVER_LICENSE_FORMATS",
    "Address",
    "DriverLicense",
    "Email",
    "FirstName",
    "Gender",
    "LastName",
    "Phone",
]
