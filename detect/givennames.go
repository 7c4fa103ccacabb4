package detect

// givenNames are common given names across English, Spanish, Portuguese,
// French, German, Italian, Dutch, Nordic, Indian, Chinese (pinyin) and
// Arabic (transliterated) usage, lower-case. Names that are also everyday
// capitalised words (Will, May, Mark, Bill, Grace, Chase, Page, Guy…) are
// left out on purpose: a sentence starting "Will Smith" is rarer than one
// starting "Will Power".
var givenNames = map[string]bool{
	// English
	"james": true, "john": true, "robert": true, "michael": true, "william": true, "david": true, "richard": true,
	"joseph": true, "thomas": true, "charles": true, "christopher": true, "daniel": true, "matthew": true,
	"anthony": true, "donald": true, "steven": true, "paul": true, "andrew": true, "joshua": true, "kenneth": true,
	"kevin": true, "brian": true, "george": true, "edward": true, "ronald": true, "timothy": true, "jason": true,
	"jeffrey": true, "ryan": true, "jacob": true, "gary": true, "nicholas": true, "eric": true, "jonathan": true,
	"stephen": true, "larry": true, "justin": true, "scott": true, "brandon": true, "benjamin": true, "samuel": true,
	"gregory": true, "alexander": true, "patrick": true, "jack": true, "dennis": true, "jerry": true, "tyler": true,
	"aaron": true, "henry": true, "peter": true, "adam": true, "nathan": true, "zachary": true, "kyle": true,
	"noah": true, "ethan": true, "jeremy": true, "christian": true, "sean": true, "austin": true, "oliver": true,
	"harry": true, "charlie": true, "oscar": true, "leo": true, "freddie": true, "alfie": true, "archie": true,
	"mary": true, "patricia": true, "jennifer": true, "linda": true, "elizabeth": true, "barbara": true,
	"susan": true, "jessica": true, "sarah": true, "karen": true, "nancy": true, "lisa": true, "betty": true,
	"margaret": true, "sandra": true, "ashley": true, "kimberly": true, "emily": true, "donna": true,
	"michelle": true, "dorothy": true, "carol": true, "amanda": true, "melissa": true, "deborah": true,
	"stephanie": true, "rebecca": true, "sharon": true, "laura": true, "cynthia": true, "kathleen": true,
	"amy": true, "angela": true, "shirley": true, "anna": true, "brenda": true, "pamela": true, "emma": true,
	"nicole": true, "helen": true, "samantha": true, "katherine": true, "christine": true, "debra": true,
	"rachel": true, "carolyn": true, "janet": true, "catherine": true, "maria": true, "heather": true,
	"diane": true, "julie": true, "joyce": true, "victoria": true, "kelly": true, "christina": true,
	"lauren": true, "joan": true, "evelyn": true, "olivia": true, "judith": true, "megan": true, "cheryl": true,
	"andrea": true, "hannah": true, "jacqueline": true, "martha": true, "gloria": true, "teresa": true,
	"sara": true, "madison": true, "kathryn": true, "janice": true, "jean": true, "abigail": true, "alice": true,
	"julia": true, "judy": true, "sophia": true, "isabella": true, "charlotte": true, "amelia": true, "mia": true,
	"jane": true, "ava": true, "chloe": true, "lily": true, "ella": true, "sophie": true, "lucy": true,
	"jessie": true, "jenny": true, "kate": true, "emilia": true, "isla": true, "poppy": true, "freya": true,
	// Spanish, Portuguese
	"jose": true, "josé": true, "juan": true, "luis": true, "carlos": true, "jorge": true, "pedro": true,
	"miguel": true, "javier": true, "francisco": true, "antonio": true, "manuel": true, "alejandro": true,
	"diego": true, "pablo": true, "sergio": true, "fernando": true, "raul": true, "raúl": true, "alvaro": true,
	"álvaro": true, "mateo": true, "santiago": true, "joão": true, "joao": true, "rafael": true, "ricardo": true,
	"carmen": true, "lucia": true, "lucía": true, "isabel": true, "ana": true, "elena": true, "marta": true,
	"paula": true, "cristina": true, "pilar": true, "rosa": true, "beatriz": true, "valentina": true,
	"camila": true, "sofia": true, "sofía": true, "gabriela": true, "mariana": true, "fernanda": true,
	// French
	"jean-pierre": true, "pierre": true, "jacques": true, "michel": true, "philippe": true, "alain": true,
	"nicolas": true, "francois": true, "françois": true, "laurent": true, "olivier": true, "julien": true,
	"sebastien": true, "sébastien": true, "thierry": true, "guillaume": true, "mathieu": true, "antoine": true,
	"louis": true, "hugo": true, "lucas": true, "jules": true, "arthur": true, "théo": true, "theo": true,
	"marie": true, "nathalie": true, "isabelle": true, "sylvie": true, "francoise": true,
	"françoise": true, "valerie": true, "valérie": true, "sandrine": true, "celine": true, "céline": true,
	"camille": true, "manon": true, "chloé": true, "lea": true, "léa": true, "juliette": true, "amelie": true,
	"amélie": true, "claire": true, "sylvain": true, "aurelie": true, "aurélie": true,
	// German
	"hans": true, "klaus": true, "jürgen": true, "juergen": true, "wolfgang": true, "stefan": true, "andreas": true,
	"uwe": true, "dieter": true, "günter": true, "guenter": true, "helmut": true, "markus": true, "matthias": true,
	"jens": true, "torsten": true, "lukas": true, "felix": true, "jonas": true, "maximilian": true, "niklas": true,
	"tobias": true, "florian": true, "sebastian": true, "ursula": true, "monika": true, "petra": true,
	"sabine": true, "renate": true, "helga": true, "karin": true, "brigitte": true, "ingrid": true,
	"claudia": true, "susanne": true, "katharina": true, "lena": true, "leonie": true, "johanna": true,
	"birgit": true, "heike": true, "gisela": true, "anke": true, "annika": true,
	// Italian
	"giuseppe": true, "giovanni": true, "marco": true, "luca": true, "francesco": true, "alessandro": true,
	"matteo": true, "lorenzo": true, "stefano": true, "roberto": true, "giorgio": true,
	"paolo": true, "salvatore": true, "massimo": true, "davide": true, "giulia": true, "francesca": true,
	"chiara": true, "federica": true, "alessandra": true, "silvia": true, "elisa": true, "martina": true,
	"giorgia": true, "aurora": true, "serena": true, "simona": true,
	// Dutch
	"jan": true, "pieter": true, "kees": true, "henk": true, "willem": true, "joost": true, "bram": true,
	"daan": true, "sem": true, "thijs": true, "jeroen": true, "sander": true, "bas": true, "ruud": true,
	"sanne": true, "anouk": true, "femke": true, "lotte": true, "fleur": true, "eva": true,
	"marieke": true, "annelies": true, "esther": true, "mieke": true, "wouter": true, "maarten": true,
	// Nordic
	"lars": true, "erik": true, "anders": true, "johan": true, "per": true, "nils": true, "olof": true,
	"magnus": true, "bjorn": true, "björn": true, "henrik": true, "mikael": true, "sven": true, "ole": true,
	"mads": true, "kristian": true, "mikko": true, "juha": true, "jukka": true, "matti": true,
	"astrid": true, "sigrid": true, "kerstin": true, "birgitta": true,
	"elin": true, "ebba": true, "maja": true, "saga": true, "freja": true, "ida": true, "linnea": true,
	"kirsten": true, "mette": true, "hanne": true, "liisa": true, "aino": true, "annikki": true,
	// Indian
	"raj": true, "rahul": true, "amit": true, "anil": true, "sunil": true, "vijay": true, "sanjay": true,
	"rajesh": true, "suresh": true, "ramesh": true, "arjun": true, "rohan": true, "vikram": true, "aditya": true,
	"arun": true, "ravi": true, "deepak": true, "manoj": true, "ashok": true, "krishna": true, "karthik": true,
	"priya": true, "anjali": true, "pooja": true, "neha": true, "sunita": true, "anita": true, "kavita": true,
	"deepika": true, "lakshmi": true, "divya": true, "shreya": true, "aishwarya": true, "meera": true,
	"ananya": true, "swati": true, "nisha": true, "rekha": true, "sneha": true,
	// Chinese (pinyin)
	"wei": true, "fang": true, "xiu": true, "min": true, "jing": true, "lei": true, "qiang": true,
	"jun": true, "yang": true, "yong": true, "yan": true, "jie": true, "tao": true, "ming": true, "chao": true,
	"xia": true, "ping": true, "gang": true, "hui": true, "hong": true, "xin": true, "yu": true, "hao": true,
	"zhiwei": true, "xiaoming": true, "xiaoling": true, "jianhua": true, "lihua": true, "yun": true,
	// Arabic (transliterated)
	"mohammed": true, "muhammad": true, "mohamed": true, "ahmed": true, "ahmad": true, "ali": true,
	"omar": true, "umar": true, "hassan": true, "hussein": true, "ibrahim": true, "youssef": true,
	"yusuf": true, "khalid": true, "abdullah": true, "mustafa": true, "karim": true, "tariq": true,
	"hamza": true, "bilal": true, "samir": true, "fatima": true, "aisha": true, "aicha": true, "mariam": true,
	"maryam": true, "khadija": true, "zainab": true, "layla": true, "leila": true, "nour": true, "yasmin": true,
	"amina": true, "salma": true, "huda": true, "rania": true,
}

// stopWords are capitalised words that follow a given name without making
// a person ("Maria Street", "Jordan River", "Paris Error").
var stopWords = map[string]bool{
	"the": true, "and": true, "or": true, "but": true, "is": true, "was": true, "in": true, "on": true, "at": true,
	"of": true, "to": true, "for": true, "from": true, "with": true, "by": true, "a": true, "an": true, "as": true,
	"street": true, "road": true, "avenue": true, "lane": true, "inc": true, "ltd": true, "llc": true, "gmbh": true,
	"corp": true, "company": true, "team": true, "group": true, "bank": true, "university": true, "school": true,
	"hospital": true, "hotel": true, "airport": true, "station": true, "park": true, "lake": true, "river": true,
	"county": true, "city": true, "center": true, "centre": true, "monday": true, "tuesday": true, "wednesday": true,
	"thursday": true, "friday": true, "saturday": true, "sunday": true, "error": true, "warning": true, "info": true,
	"debug": true, "null": true, "true": true, "false": true, "admin": true, "user": true, "support": true,
	"service": true, "project": true, "account": true, "api": true, "app": true, "id": true, "ok": true,
	"january": true, "february": true, "march": true, "april": true, "june": true, "july": true, "august": true,
	"september": true, "october": true, "november": true, "december": true,
}
