/**
 * The example's own business: orders kept in memory, and the handlers that serve them. server.mjs puts
 * Gantry's middleware in front of them; the only thing they read from it is `req.gantry`, the caller.
 */

const orders = [
  { id: 1, item: 'espresso beans, 1 kg', quantity: 2, createdBy: 'seed' },
  { id: 2, item: 'oat milk, 12 x 1 l', quantity: 1, createdBy: 'seed' },
]

/** GET /orders: every order. */
export function listOrders(_req, res) {
  res.json({ data: orders })
}

/** POST /orders: `{ item, quantity }`; 201 with the new order, 400 problem+json when the body is not one. */
export function createOrder(req, res) {
  const { item, quantity } = req.body ?? {}
  if (typeof item !== 'string' || item.trim() === '' || !Number.isInteger(quantity) || quantity < 1) {
    res.status(400).type('application/problem+json').json({ type: 'about:blank', title: 'Bad Request', status: 400, detail: 'An order is { "item": string, "quantity": integer >= 1 }.' })
    return
  }
  const order = { id: orders.length + 1, item: item.trim(), quantity, createdBy: req.gantry.actor }
  orders.push(order)
  res.status(201).json(order)
}

/** GET /reports: a summary for a machine client (the route takes API keys only). */
export function salesReport(_req, res) {
  res.json({ orders: orders.length, units: orders.reduce((sum, o) => sum + o.quantity, 0) })
}

/** GET /search?q=: orders whose item contains `q`. */
export function searchOrders(req, res) {
  const q = String(req.query.q ?? '').toLowerCase()
  res.json({ data: orders.filter((o) => o.item.toLowerCase().includes(q)) })
}

/** The app's own readiness check (a stand-in for pinging the app's database or queue): throws when not ready. */
export async function ordersReady() {
  if (!Array.isArray(orders)) throw new Error('the order store is gone')
}
