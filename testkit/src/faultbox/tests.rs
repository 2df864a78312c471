use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};

use super::*;

const EVENT_A: &str = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const EVENT_B: &str = "0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn log(event: &str, topic1: u64, words: &[u64]) -> Value {
    let data: String = words.iter().map(|w| format!("{w:064x}")).collect();
    json!({
        "address": "0x0000000000000000000000000000000000000001",
        "topics": [event, format!("0x{topic1:064x}")],
        "data": format!("0x{data}"),
        "blockNumber": "0x5",
        "logIndex": "0x0",
    })
}

fn block(number: u64) -> Value {
    json!({
        "number": format!("0x{number:x}"),
        "hash": format!("0x{:064x}", 0x1000 + number),
        "parentHash": format!("0x{:064x}", 0x1000 + number - 1),
    })
}

/// The mock node's answer to one call.
fn result_of(call: &Value) -> Value {
    let method = call["method"].as_str().unwrap_or_default();
    let result = match method {
        "eth_blockNumber" => json!("0x9"),
        "eth_getLogs" => json!([
            log(EVENT_B, 1, &[7, 8]),
            log(EVENT_A, 2, &[3, 4]),
            log(EVENT_A, 3, &[5, 6])
        ]),
        "eth_getBlockReceipts" => json!([
            {"logs": [log(EVENT_B, 1, &[7])]},
            {"logs": [log(EVENT_A, 2, &[3, 4]), log(EVENT_A, 3, &[5, 6])]},
        ]),
        "eth_getBlockByNumber" => {
            let n = quantity(call["params"].get(0));
            block(n)
        }
        _ => Value::Null,
    };
    json!({"jsonrpc": "2.0", "id": call["id"], "result": result})
}

/// A JSON-RPC node on a loopback port (HTTP/1.1, keep-alive, `Content-Length` bodies).
fn mock_node() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve_mock(stream));
        }
    });
    addr
}

fn serve_mock(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut length = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let request: Value = serde_json::from_slice(&body).unwrap();
        let answer = match &request {
            Value::Array(calls) => Value::Array(calls.iter().map(result_of).collect()),
            call => result_of(call),
        }
        .to_string();
        write!(
            writer,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        )
        .unwrap();
    }
}

/// One POST through the box: (status, body, time taken).
fn post(port: u16, body: &Value) -> (u16, Value, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = body.to_string();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let (status, body) = crate::http::parse_response(&raw).unwrap();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        started.elapsed(),
    )
}

fn call(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

#[test]
fn passes_through_then_each_fault_in_turn_then_passes_again() {
    let node = mock_node();
    let fault_box = FaultBox::start(node).unwrap();
    let port = fault_box.port();
    let logs = call(1, "eth_getLogs", json!([{}]));
    let (status, honest, _) = post(port, &logs);
    assert_eq!(status, 200);
    assert_eq!(honest, result_of(&logs));

    fault_box.inject(Fault::HttpStatus(503), Duration::from_secs(30));
    assert_eq!(fault_box.current(), Some(Fault::HttpStatus(503)));
    assert_eq!(post(port, &logs).0, 503);

    // Switching replaces the fault in force.
    fault_box.inject(Fault::RpcError, Duration::from_secs(30));
    let batch = json!([
        call(7, "eth_blockNumber", json!([])),
        call(8, "eth_getLogs", json!([{}]))
    ]);
    let (status, errors, _) = post(port, &batch);
    assert_eq!(status, 200);
    assert_eq!(errors[0]["id"], 7);
    assert_eq!(errors[1]["id"], 8);
    assert_eq!(errors[1]["error"]["code"], INJECTED_ERROR_CODE);
    assert!(errors[1].get("result").is_none());

    fault_box.clear();
    assert_eq!(fault_box.current(), None);
    assert_eq!(post(port, &logs).1, honest);
    let counters = fault_box.counters();
    assert_eq!(
        (counters.requests, counters.faulted),
        (4, 2),
        "{counters:?}"
    );
}

#[test]
fn a_fault_ends_on_its_own() {
    let fault_box = FaultBox::start(mock_node()).unwrap();
    fault_box.inject(Fault::HttpStatus(500), Duration::from_millis(300));
    let number = call(1, "eth_blockNumber", json!([]));
    assert_eq!(post(fault_box.port(), &number).0, 500);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(fault_box.current(), None);
    assert_eq!(post(fault_box.port(), &number).1["result"], "0x9");
}

#[test]
fn a_stall_holds_answers_but_never_past_its_end() {
    let fault_box = FaultBox::start(mock_node()).unwrap();
    let number = call(1, "eth_blockNumber", json!([]));
    fault_box.inject(
        Fault::Stall(Duration::from_millis(500)),
        Duration::from_secs(30),
    );
    let (_, answer, took) = post(fault_box.port(), &number);
    assert_eq!(answer["result"], "0x9");
    assert!(took >= Duration::from_millis(500), "{took:?}");
    // A hold of 20 s inside a fault of 300 ms lasts about 300 ms.
    fault_box.inject(
        Fault::Stall(Duration::from_secs(20)),
        Duration::from_millis(300),
    );
    let (_, answer, took) = post(fault_box.port(), &number);
    assert_eq!(answer["result"], "0x9");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

#[test]
fn lies_reach_the_client_through_the_box() {
    let fault_box = FaultBox::start(mock_node()).unwrap();
    let event = EVENT_A.parse().unwrap();
    fault_box.inject(
        Fault::AlterLog {
            event: Some(event),
            change: LogChange::ZeroDataWord(1),
        },
        Duration::from_secs(30),
    );
    let (_, answer, _) = post(fault_box.port(), &call(3, "eth_getLogs", json!([{}])));
    assert_eq!(answer["result"][1], log(EVENT_A, 2, &[3, 0]));
    assert_eq!(fault_box.counters().altered_logs, 1);
    // A node that cannot be reached is a 502, counted.
    drop(fault_box);
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let fault_box = FaultBox::start(dead).unwrap();
    assert_eq!(
        post(fault_box.port(), &call(1, "eth_blockNumber", json!([]))).0,
        502
    );
    assert_eq!(fault_box.counters().upstream_errors, 1);
}

fn lie(fault: Fault, request: &Value) -> Option<(Value, u64)> {
    let answer = match request {
        Value::Array(calls) => Value::Array(calls.iter().map(result_of).collect()),
        call => result_of(call),
    };
    lie_in(
        &fault,
        request.to_string().as_bytes(),
        answer.to_string().as_bytes(),
    )
    .map(|(bytes, n)| (serde_json::from_slice(&bytes).unwrap(), n))
}

#[test]
fn a_log_lie_alters_only_the_first_log_of_the_event() {
    let event = EVENT_A.parse().unwrap();
    let logs = call(1, "eth_getLogs", json!([{}]));
    let data = Fault::AlterLog {
        event: Some(event),
        change: LogChange::ZeroDataWord(0),
    };
    let (altered, n) = lie(data, &logs).unwrap();
    assert_eq!(n, 1);
    let honest = result_of(&logs)["result"].clone();
    assert_eq!(altered["result"][0], honest[0]);
    assert_eq!(altered["result"][1], log(EVENT_A, 2, &[0, 4]));
    assert_eq!(altered["result"][2], honest[2]);

    // A zero word becomes one; a topic is bumped; any event when none is named.
    let (altered, _) = lie(
        Fault::AlterLog {
            event: Some(event),
            change: LogChange::ZeroDataWord(0),
        },
        &call(1, "eth_getBlockReceipts", json!(["0x5"])),
    )
    .unwrap();
    assert_eq!(altered["result"][1]["logs"][0], log(EVENT_A, 2, &[0, 4]));
    assert_eq!(altered["result"][0]["logs"][0], log(EVENT_B, 1, &[7]));
    let (altered, _) = lie(
        Fault::AlterLog {
            event: None,
            change: LogChange::BumpTopic(1),
        },
        &logs,
    )
    .unwrap();
    assert_eq!(altered["result"][0], log(EVENT_B, 2, &[7, 8]));

    // Nothing to alter: a word past the data, another method, an error answer.
    let past = Fault::AlterLog {
        event: Some(event),
        change: LogChange::ZeroDataWord(2),
    };
    assert_eq!(lie(past, &logs), None);
    assert_eq!(lie(data, &call(1, "eth_blockNumber", json!([]))), None);
    assert_eq!(
        lie_in(
            &data,
            logs.to_string().as_bytes(),
            rpc_errors(&logs).to_string().as_bytes()
        ),
        None
    );
}

#[test]
fn a_block_lie_alters_only_the_newest_block_of_an_answer() {
    let batch = json!([
        call(1, "eth_getBlockByNumber", json!(["0x5", false])),
        call(2, "eth_getBlockByNumber", json!(["0x7", false])),
        call(3, "eth_getBlockByNumber", json!(["0x6", false])),
        call(4, "eth_blockNumber", json!([])),
    ]);
    let (altered, n) = lie(Fault::WrongBlockHash, &batch).unwrap();
    assert_eq!(n, 1);
    assert_eq!(altered[0]["result"], block(5));
    assert_eq!(altered[2]["result"], block(6));
    assert_eq!(altered[1]["result"]["parentHash"], block(7)["parentHash"]);
    assert_eq!(
        altered[1]["result"]["hash"],
        format!("0x{:062x}{:02x}", 0x1007 >> 8, 0x07 ^ 0xff)
    );
    let one = call(9, "eth_getBlockByNumber", json!(["0x3", false]));
    let (altered, _) = lie(Fault::WrongParentHash, &one).unwrap();
    assert_eq!(altered["result"]["hash"], block(3)["hash"]);
    assert_ne!(altered["result"]["parentHash"], block(3)["parentHash"]);
    assert_eq!(
        lie(Fault::WrongBlockHash, &call(1, "eth_getLogs", json!([{}]))),
        None
    );
}
