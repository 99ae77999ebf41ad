-- wrk against the floor (`cargo bench --bench flash_crowd -- --serve-floor 127.0.0.1:18089`):
-- the same booking body the in-process clients send, answered 409 sold out.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"reservationId":"0b6f1a52-5d1e-4c63-9a59-3f1f0c2e9d11","restaurantId":"6a1d0c1e-2b7a-4a8e-9f3e-1c2d3e4f5a6b","tableTypeId":"7b2e1d2f-3c8b-4b9f-8a4f-2d3e4f5a6b7c","partySize":2,"date":"2030-06-01","time":"19:30","guest":{"name":"Bench Diner","email":"diner1.floor@example.com"}}]]
