// Word lists the demo data is drawn from: names, industries, subjects, products, key actions.
import type { CreateContactInput, CreateCustomerInput } from '../../modules/customers/index.js';

export type ContactRole = NonNullable<CreateContactInput['decisionRole']>;
export type Channel = NonNullable<CreateCustomerInput['source']>['channel'];


export const FIRST = ['Andreas', 'Birgit', 'Christian', 'Daniela', 'Elke', 'Frank', 'Gabriele', 'Heike', 'Ingo', 'Jörg', 'Katrin', 'Lars', 'Monika', 'Nils', 'Olaf', 'Petra', 'Ralf', 'Sabine', 'Stefan', 'Tanja', 'Ulrich', 'Uwe', 'Wiebke', 'Yvonne', 'Zeynep', 'Markus', 'Claudia', 'Thomas', 'Susanne', 'Michael', 'Kerstin', 'Matthias', 'Anja', 'Dirk', 'Silke', 'Jens', 'Martina', 'Holger', 'Nadine', 'Sven'];
export const LAST = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Schwarz', 'Zimmermann', 'Braun', 'Krüger', 'Hofmann', 'Hartmann', 'Lange', 'Schmitt', 'Werner', 'Krause', 'Meier', 'Lehmann', 'Köhler', 'Herrmann', 'Walter', 'König', 'Mayer', 'Huber', 'Kaiser', 'Fuchs', 'Peters', 'Lang', 'Seidel', 'Möller', 'Weiß', 'Jung', 'Hahn', 'Vogel', 'Friedrich', 'Keller', 'Günther', 'Frank', 'Berger'];
export const PREFIX = ['Hansa', 'Nordwind', 'Alster', 'Elbe', 'Weser', 'Isar', 'Spree', 'Rhein', 'Brandt', 'Keller', 'Hoffmann', 'Becker', 'Vogel', 'Sommer', 'Falke', 'Adler', 'Linden', 'Eichen', 'Bergmann', 'Stern', 'Kranich', 'Löwen', 'Wagner', 'Schuster', 'Krüger', 'Fischer', 'Baltic', 'Alpina', 'Nova', 'Delta', 'Kompass', 'Polaris', 'Merkur', 'Atlas', 'Orion', 'Vulkan', 'Greif', 'Hafen', 'Küsten', 'Harz'];
export const INDUSTRIES: Record<string, readonly string[]> = {
  Manufacturing: ['Precision Parts', 'Metallbau', 'Maschinenbau', 'Fertigungstechnik', 'Kunststofftechnik'],
  Construction: ['Bau', 'Hochbau', 'Tiefbau', 'Haustechnik'],
  Logistics: ['Logistik', 'Spedition', 'Freight', 'Lagerhaus'],
  'Food & Beverage': ['Feinkost', 'Brauerei', 'Backwaren', 'Molkerei'],
  Healthcare: ['Medizintechnik', 'Pflegedienste', 'Klinikbedarf', 'Laborservice'],
  Retail: ['Handelshaus', 'Baumarkt', 'Fachhandel', 'Retail Group'],
  Automotive: ['Autoteile', 'Fahrzeugbau', 'Karosseriewerk'],
  Energy: ['Energietechnik', 'Solar', 'Wärmesysteme'],
  Agriculture: ['Agrar', 'Landhandel', 'Gartenbau'],
  Hospitality: ['Hotels', 'Gastronomie', 'Catering'],
  Education: ['Bildungszentrum', 'Akademie'],
};
export const PERSON_INDUSTRIES = ['Agriculture', 'Construction', 'Hospitality', 'Retail'];
export const SUFFIX = [['GmbH', 55], ['GmbH & Co. KG', 20], ['AG', 8], ['KG', 7], ['e.K.', 6], ['SE', 2]] as const;
export const STREETS = ['Hauptstraße', 'Bahnhofstraße', 'Industriestraße', 'Hafenstraße', 'Am Markt', 'Gewerbering', 'Lindenallee', 'Schillerstraße', 'Mühlenweg', 'Carl-Benz-Straße', 'Gutenbergring', 'Am Güterbahnhof'];
export const TITLES: Record<ContactRole, readonly string[]> = {
  DECISION_MAKER: ['Managing Director', 'Owner', 'Head of Purchasing', 'Plant Manager', 'CEO'],
  INFLUENCER: ['Head of Operations', 'Project Manager', 'Controller'],
  USER: ['Workshop Lead', 'Site Supervisor', 'Shift Manager'],
  GATEKEEPER: ['Office Manager', 'Executive Assistant', 'Purchasing Assistant'],
  TECHNICAL: ['IT Lead', 'Maintenance Engineer', 'Technical Director'],
  OTHER: ['Accounts Payable', 'Assistant'],
};

export const CAMPAIGNS: Partial<Record<Channel, readonly string[]>> = {
  MEDIA: ['Trade journal ad spring', 'Radio spot north'],
  WEBSITE: ['Product finder', 'Quote request form', 'Search ads pumps'],
  EVENT: ['Hannover Messe', 'bauma Munich', 'Regional open house'],
  PARTNER: ['Partner lead programme'],
};

export const SUBJECTS: Record<string, readonly string[]> = {
  PHONE: ['Follow-up call', 'Clarified delivery times', 'Asked about the quote', 'Call with purchasing'],
  EMAIL: ['Sent product sheet', 'Quote follow-up', 'Answered technical question', 'Meeting confirmation'],
  VISIT: ['Site visit', 'Plant tour and needs review', 'Visit with the technical director'],
  MEETING: ['Solution presentation', 'Price negotiation', 'Quarterly review'],
  EVENT: ['Met at the trade fair', 'Open house visit'],
  WEB: ['Downloaded the brochure', 'Used the product finder'],
};
export const OUTCOMES = ['Positive, next step agreed', 'Needs internal alignment', 'Waiting for budget approval', 'Asked for a revised offer', 'No decision yet'];
export const PRODUCTS = ['Pump series P200', 'Compressor line K7', 'Conveyor retrofit', 'Service contract', 'Spare parts framework', 'Control cabinet upgrade', 'Filtration units'];
export const COMPETITORS = ['Nordpumpen AG', 'Südtech GmbH', 'EuroFlow SE', 'Lowcost Imports'];
export const LOST_REASONS = ['Price too high', 'Chose a competitor', 'Project postponed', 'No budget this year'];
export const ACTION_TITLES: Record<string, readonly (readonly [string, string | null])[]> = {
  QUALIFICATION: [['Identify the decision maker', 'DECISION_MAKER_KNOWN'], ['Workshop on requirements', 'NEED_DEFINED'], ['Site survey', null]],
  ACCEPTANCE: [['Present the solution', null], ['Get the solution accepted by the customer', 'SOLUTION_ACCEPTED'], ['Send the technical proposal', null]],
  NEGOTIATION: [['Send the final quote', 'FINAL_QUOTE_SENT'], ['Negotiate payment terms', null], ['Confirm delivery schedule', null]],
  CUSTOMER: [['Schedule commissioning', null], ['Check satisfaction after delivery', null]],
  USER: [['Annual service visit', null], ['Offer the maintenance contract renewal', null], ['Ask for a reference', null]],
};
