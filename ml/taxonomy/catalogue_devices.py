"""Support devices, lines, tubes and surgical material."""

from __future__ import annotations

from ml.taxonomy.label import ACTIONABLE, BENIGN, DRAW, NOT_ACTIONABLE, Label

DEVICE_LABELS: tuple[Label, ...] = (
    Label(
        "Support device",
        DRAW,
        NOT_ACTIONABLE,
        "A medical tube, line, catheter or implanted device; the report states what it is and "
        "whether its tip is in the right place.",
        "devices",
        (
            "Support Devices",
            "device/foreign body",
            "medical device",
            "lines and tubes",
            "tubes and lines",
        ),
    ),
    Label(
        "Pacemaker",
        DRAW,
        NOT_ACTIONABLE,
        "A cardiac pacemaker or defibrillator generator over the chest wall with leads running "
        "to the right heart chambers.",
        "devices",
        (
            "cardiac pacemaker",
            "pacemaker leads",
            "electrical device",
            "dual chamber device",
            "single chamber device",
            "implantable cardioverter defibrillator",
            "ICD",
            "AICD",
        ),
    ),
    Label(
        "Central venous catheter",
        DRAW,
        NOT_ACTIONABLE,
        "A central line (jugular, subclavian or PICC) whose tip should lie in the lower "
        "superior vena cava or at the cavo-atrial junction.",
        "devices",
        (
            "CVC",
            "central line",
            "central venous line",
            "PICC",
            "PICC line",
            "peripherally inserted central catheter",
            "central venous catheter via jugular vein",
            "central venous catheter via subclavian vein",
            "reservoir central venous catheter",
            "port catheter",
        ),
    ),
    Label(
        "Nasogastric tube",
        DRAW,
        NOT_ACTIONABLE,
        "A feeding or drainage tube that should follow the oesophagus down the midline and end "
        "well below the diaphragm in the stomach.",
        "devices",
        ("NSG tube", "NG tube", "nasogastric", "orogastric tube", "OG tube", "feeding tube"),
    ),
    Label(
        "Endotracheal tube",
        DRAW,
        NOT_ACTIONABLE,
        "A breathing tube in the trachea whose tip should sit about 3 to 7 cm above the carina.",
        "devices",
        ("ETT", "ET tube", "endotracheal", "tracheal tube"),
    ),
    Label(
        "Tracheostomy tube",
        DRAW,
        NOT_ACTIONABLE,
        "A tube placed through the front of the neck into the trachea.",
        "devices",
        ("tracheostomy", "tracheostomy cannula", "trach tube"),
    ),
    Label(
        "Chest tube",
        DRAW,
        NOT_ACTIONABLE,
        "A drain in the pleural space, placed for a pneumothorax or an effusion.",
        "devices",
        (
            "chest drain",
            "chest drain tube",
            "pleural drain",
            "thoracic drain",
            "intercostal drain",
            "thoracostomy tube",
        ),
    ),
    Label(
        "Surgical clips",
        DRAW,
        BENIGN,
        "Small metallic clips left by surgery, for example after a lobectomy or axillary "
        "dissection.",
        "devices",
        ("surgical clip", "metallic clips", "vascular clips", "clips"),
    ),
    Label(
        "Sternotomy wires",
        DRAW,
        BENIGN,
        "Wire loops closing the sternum after open-heart surgery.",
        "devices",
        ("sternotomy", "median sternotomy", "sternal wires", "sternal cerclage"),
    ),
    Label(
        "Prosthetic heart valve",
        DRAW,
        BENIGN,
        "A replaced heart valve, seen as a metallic ring or cage over the heart.",
        "devices",
        ("prosthetic valve", "heart valve prosthesis", "valve prosthesis", "valve replacement"),
    ),
    Label(
        "Foreign body",
        DRAW,
        ACTIONABLE,
        "A radiopaque object that should not be there, swallowed, inhaled or left behind.",
        "devices",
        ("foreign bodies", "retained foreign body", "radiopaque foreign body"),
    ),
)
