// Synthetic FinanceApp customers, generated from a seeded PRNG so every run (and every test, and
// every end-to-end replay) sees the same rows and the same result sizes. Every value is fake:
// SSNs have the valid shape (area 001-665/667-899, group 01-99, serial 0001-9999) but come from a
// PRNG; phone numbers use the 555-0100…0199 range reserved for fiction; emails use example.com.

export interface Customer {
  id: number;
  name: string;
  email: string;
  ssn: string;
  phone: string;
  balance: number;
  city: string;
}

/** The problem statement's ordinary session looks this customer up (`WHERE id = 4471`): always row one. */
export const SARAH_CHEN: Customer = {
  id: 4471,
  name: 'Sarah Chen',
  email: 'sarah.chen@example.com',
  ssn: '412-55-1234',
  phone: '+1-415-555-0134',
  balance: 48210,
  city: 'San Francisco',
};

// prettier-ignore
const FIRST = [
  'James', 'Maria', 'Wei', 'Aisha', 'Carlos', 'Elena', 'Kenji', 'Fatima', 'Liam', 'Priya',
  'Noah', 'Sofia', 'Omar', 'Hannah', 'Mateo', 'Chloe', 'Arjun', 'Zoe', 'Lucas', 'Amara',
  'Daniel', 'Yuki', 'Ethan', 'Leila', 'Samuel', 'Grace', 'Diego', 'Nadia', 'Isaac', 'Mei',
];
// prettier-ignore
const LAST = [
  'Smith', 'Garcia', 'Nguyen', 'Patel', 'Johnson', 'Kim', 'Okafor', 'Rossi', 'Mueller', 'Silva',
  'Brown', 'Haddad', 'Tanaka', 'Williams', 'Lopez', 'Cohen', 'Singh', 'Martin', 'Ivanova', 'Chen',
  'Davis', 'Moreau', 'Ali', 'Novak', 'Reyes', 'Schmidt', 'Kowalski', 'Adeyemi', 'Larsen', 'Park',
];
// prettier-ignore
const CITIES = [
  'New York', 'San Francisco', 'Chicago', 'Austin', 'Seattle', 'Boston', 'Denver', 'Miami',
  'Atlanta', 'Portland', 'Phoenix', 'Minneapolis',
];

/** mulberry32: tiny, fast, good enough for synthetic data, identical on every platform. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function int(rand: () => number, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function fakeSsn(rand: () => number): string {
  let area = int(rand, 1, 898);
  if (area >= 666) area += 1; // 666 is never issued
  return `${pad(area, 3)}-${pad(int(rand, 1, 99), 2)}-${pad(int(rand, 1, 9999), 4)}`;
}

/**
 * Balances are skewed so that roughly a third of customers hold more than $100,000: the
 * injected session's `WHERE balance > 100000` returns hundreds of rows (well over 100 KiB),
 * while a single-customer lookup stays a few hundred bytes.
 */
function balance(rand: () => number): number {
  const cents = Math.round(Math.exp(8 + rand() * 5) * 100); // ≈ $3,000 … $440,000
  return cents / 100;
}

/** `count` customers, ids 4471, 4472, …; the first is always Sarah Chen. */
export function* generateCustomers(count: number, seed = 20260318): Generator<Customer> {
  const rand = mulberry32(seed);
  for (let i = 0; i < count; i++) {
    if (i === 0) {
      yield SARAH_CHEN;
      continue;
    }
    const first = FIRST[int(rand, 0, FIRST.length - 1)]!;
    const last = LAST[int(rand, 0, LAST.length - 1)]!;
    const id = SARAH_CHEN.id + i;
    yield {
      id,
      name: `${first} ${last}`,
      email: `${first}.${last}.${id}@example.com`.toLowerCase(),
      ssn: fakeSsn(rand),
      phone: `+1-${int(rand, 201, 989)}-555-01${pad(int(rand, 0, 99), 2)}`,
      balance: balance(rand),
      city: CITIES[int(rand, 0, CITIES.length - 1)]!,
    };
  }
}
