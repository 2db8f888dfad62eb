"""Word lists for the demo data generator (``planning.demo``): people, company names, deal and
activity wording. Plain tuples so that index-based picks stay reproducible."""

from __future__ import annotations

FIRST_NAMES = (
    "Aaliyah", "Aaron", "Abigail", "Adam", "Adrian", "Aisha", "Alan", "Alejandro", "Alexis", "Alice",
    "Amara", "Amelia", "Amir", "Ana", "Andre", "Andrea", "Angela", "Anika", "Anthony", "Arjun",
    "Ava", "Beatriz", "Ben", "Bianca", "Brandon", "Brian", "Caleb", "Camila", "Carla", "Carlos",
    "Carmen", "Catherine", "Chen", "Chloe", "Chris", "Claire", "Daniel", "Daniela", "David", "Deepa",
    "Diana", "Diego", "Dmitri", "Elena", "Eli", "Elif", "Elizabeth", "Emily", "Emma", "Eric",
    "Ethan", "Fatima", "Felix", "Fernando", "Fiona", "Gabriel", "Grace", "Hannah", "Haruto", "Hector",
    "Helena", "Ian", "Ines", "Isaac", "Isabel", "Jack", "Jacob", "James", "Jamal", "Jasmine",
    "Javier", "Jennifer", "Jessica", "Joao", "Jonas", "Jordan", "Jose", "Julia", "Julian", "Kai",
    "Karen", "Keisha", "Kenji", "Kevin", "Laura", "Leah", "Leon", "Liam", "Lina", "Lucas",
    "Lucia", "Luis", "Maya", "Marco", "Maria", "Mark", "Marta", "Mateo", "Matthew", "Mei",
    "Michael", "Michelle", "Miguel", "Mina", "Nadia", "Naomi", "Nathan", "Neha", "Nicole", "Noah",
    "Olivia", "Omar", "Oscar", "Owen", "Pablo", "Paul", "Priya", "Rachel", "Rafael", "Rahul",
    "Ravi", "Rebecca", "Ren", "Ricardo", "Rosa", "Ryan", "Sakura", "Samuel", "Sara", "Sean",
    "Sofia", "Sophie", "Stefan", "Steven", "Tariq", "Thomas", "Tom", "Valentina", "Victor", "Wei",
    "William", "Yara", "Yuki", "Yusuf", "Zara", "Zoe",
)

LAST_NAMES = (
    "Abbott", "Adeyemi", "Agarwal", "Alvarez", "Andersen", "Bailey", "Baker", "Banerjee", "Becker",
    "Bennett", "Bianchi", "Brooks", "Brown", "Bryant", "Campbell", "Carter", "Castillo", "Chan",
    "Chavez", "Chen", "Clarke", "Collins", "Cooper", "Costa", "Cruz", "Das", "Davies", "Diaz",
    "Dubois", "Edwards", "Evans", "Fischer", "Flores", "Foster", "Garcia", "Gomez", "Gonzalez",
    "Gray", "Green", "Gupta", "Hall", "Hansen", "Harris", "Hayes", "Hernandez", "Hill", "Hoffmann",
    "Hughes", "Iyer", "Jackson", "Jensen", "Johnson", "Jones", "Kato", "Kaur", "Kelly", "Khan",
    "Kim", "Klein", "Kowalski", "Kumar", "Lambert", "Larsen", "Lee", "Lewis", "Lopez", "Martin",
    "Martinez", "Mehta", "Meyer", "Miller", "Mitchell", "Moore", "Morales", "Moreau", "Morgan",
    "Murphy", "Nakamura", "Nguyen", "Novak", "Nowak", "Okafor", "Oliveira", "Olsen", "Ortiz",
    "Park", "Patel", "Perez", "Peterson", "Petrov", "Phillips", "Pereira", "Price", "Quinn",
    "Ramirez", "Reddy", "Reyes", "Richter", "Rivera", "Roberts", "Robinson", "Rodriguez", "Rossi",
    "Russo", "Sanchez", "Santos", "Sato", "Schmidt", "Schneider", "Scott", "Shah", "Silva", "Singh",
    "Smith", "Sullivan", "Suzuki", "Tanaka", "Taylor", "Thomas", "Thompson", "Torres", "Turner",
    "Walker", "Wang", "Ward", "Watanabe", "Weber", "White", "Williams", "Wilson", "Wong", "Wright",
    "Yamamoto", "Yang", "Young", "Zhang", "Zimmermann",
)

# First half of a company name: an evocative word, sometimes two.
COMPANY_HEADS = (
    "Acme", "Alder", "Alpine", "Amber", "Anchor", "Apex", "Arbor", "Arcadia", "Arrow", "Aspen",
    "Atlas", "Aurora", "Beacon", "Birch", "Blue Harbor", "Blue Ridge", "Bluebird", "Boulder",
    "Bright Path", "Brightwater", "Broadleaf", "Cardinal", "Cascade", "Cedar", "Centennial",
    "Clearwater", "Cobalt", "Compass", "Copper", "Coral", "Cornerstone", "Crescent", "Crestline",
    "Crimson", "Crown", "Cypress", "Delta", "Eagle", "Eastgate", "Echo", "Elm", "Ember", "Emerald",
    "Evergreen", "Falcon", "Fernwood", "Firefly", "Foxglove", "Frontier", "Gateway", "Glacier",
    "Golden Gate", "Granite", "Greenfield", "Greystone", "Harbor", "Harvest", "Hawthorn",
    "Heritage", "Highland", "Horizon", "Indigo", "Iron Bridge", "Ironwood", "Juniper", "Keystone",
    "Lakeside", "Landmark", "Lantern", "Laurel", "Liberty", "Lighthouse", "Linden", "Lodestar",
    "Magnolia", "Maple", "Maplewood", "Mariner", "Meadow", "Meridian", "Mesa", "Midland",
    "Millbrook", "Monarch", "Mosaic", "Northbeam", "Northstar", "Northwind", "Oak Hill", "Oakmont",
    "Obsidian", "Onyx", "Orchard", "Osprey", "Pacific", "Paragon", "Pathfinder", "Peak", "Pine Ridge",
    "Pinnacle", "Pioneer", "Polaris", "Prairie", "Quarry", "Quartz", "Radiant", "Rainier", "Raven",
    "Red Rock", "Redwood", "Ridgeline", "River Bend", "Riverstone", "Rockport", "Sable", "Saffron",
    "Sagebrush", "Sapphire", "Sequoia", "Seven Hills", "Shoreline", "Sierra", "Silver Creek",
    "Silverline", "Skyline", "Sparrow", "Spruce", "Starling", "Sterling", "Stonebridge", "Summit",
    "Sunrise", "Sycamore", "Tamarack", "Terra", "Thistle", "Timberline", "Trailhead", "Tributary",
    "Trident", "True North", "Twin Oaks", "Union", "Vanguard", "Vantage", "Verdant", "Vertex",
    "Vista", "Waypoint", "Westbrook", "Westgate", "Whitewater", "Wildflower", "Willow", "Windward",
    "Zenith",
)

# Second half, by NAICS sector (two digits); "*" is used for sectors not listed.
COMPANY_TAILS = {
    "11": ("Farms", "Agriculture", "Growers", "Harvest Co.", "Orchards", "AgriTech"),
    "21": ("Resources", "Mining", "Energy", "Minerals", "Drilling"),
    "22": ("Power", "Energy", "Utilities", "Water", "Renewables"),
    "23": ("Builders", "Construction", "Contractors", "Engineering", "Homes", "Structures"),
    "31": ("Foods", "Brewing", "Textiles", "Provisions", "Kitchens"),
    "32": ("Chemicals", "Plastics", "Materials", "Packaging", "Pharma", "Paper Co."),
    "33": ("Manufacturing", "Industries", "Machinery", "Electronics", "Devices", "Robotics",
           "Precision", "Metalworks", "Components"),
    "42": ("Supply", "Distribution", "Wholesale", "Trading", "Imports"),
    "44": ("Outfitters", "Market", "Goods", "Stores", "Retail"),
    "45": ("Marketplace", "Emporium", "Retail Group", "Shops", "Commerce"),
    "48": ("Logistics", "Freight", "Transport", "Airways", "Shipping"),
    "49": ("Logistics", "Warehousing", "Couriers", "Fulfillment"),
    "51": ("Software", "Analytics", "Media", "Networks", "Cloud", "Data", "Labs", "Systems",
           "Telecom", "Digital"),
    "52": ("Capital", "Financial", "Bank", "Insurance", "Partners", "Investments", "Credit Union"),
    "53": ("Properties", "Realty", "Estates", "Leasing", "Rentals"),
    "54": ("Consulting", "Advisors", "Engineering", "Design", "Legal", "Research", "Labs",
           "Technologies", "Solutions"),
    "55": ("Holdings", "Group", "Enterprises"),
    "56": ("Services", "Staffing", "Facilities", "Security"),
    "61": ("Academy", "Learning", "Institute", "College", "Education"),
    "62": ("Health", "Medical", "Clinic", "Care", "Hospital", "Wellness", "Therapeutics",
           "Family Services"),
    "71": ("Entertainment", "Studios", "Sports", "Recreation"),
    "72": ("Hospitality", "Hotels", "Restaurants", "Dining", "Resorts"),
    "81": ("Services", "Repair", "Association", "Foundation"),
    "92": ("County Services", "Authority", "Municipal Services", "Public Works", "Agency"),
    "*": ("Group", "Company", "Partners", "Solutions"),
}

# Legal-form suffixes by country (empty string = none); picked with modest probability.
LEGAL_SUFFIXES = {
    "US": ("Inc.", "LLC", "Corp."), "CA": ("Inc.", "Ltd."), "BR": ("Ltda.", "S.A."), "MX": ("S.A. de C.V.",),
    "GB": ("Ltd", "plc"), "DE": ("GmbH", "AG"), "FR": ("SAS", "SA"), "NL": ("B.V.", "N.V."),
    "ES": ("S.L.", "S.A."), "JP": ("K.K.",), "AU": ("Pty Ltd",), "SG": ("Pte Ltd",), "IN": ("Pvt Ltd",),
}

TLDS = {
    "US": "com", "CA": "ca", "BR": "com.br", "MX": "com.mx", "GB": "co.uk", "DE": "de", "FR": "fr",
    "NL": "nl", "ES": "es", "JP": "co.jp", "AU": "com.au", "SG": "com.sg", "IN": "in",
}

DEAL_KINDS = (
    "New logo", "Platform expansion", "Renewal", "Upsell: analytics add-on", "Multi-year renewal",
    "Pilot", "Enterprise licence", "Department rollout", "Services engagement", "Seat expansion",
)

ACTIVITY_SUBJECTS = {
    "call": ("Discovery call", "Follow-up call", "Pricing discussion", "Check-in call", "Intro call",
             "Renewal call", "Technical Q&A"),
    "email": ("Sent proposal", "Follow-up email", "Shared case study", "Intro email", "Sent pricing",
              "Meeting recap", "Contract redlines"),
    "meeting": ("Onsite workshop", "Executive briefing", "Product demo", "Quarterly business review",
                "Solution design session", "Kickoff meeting"),
}

LEAD_SOURCES = (
    "Web form", "Webinar", "Trade show", "Referral", "Partner", "Outbound", "Content download",
    "Free trial",
)
