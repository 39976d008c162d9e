import CHubSys
import Glibc
import Synchronization

/// Something registered with an event loop: told when its descriptor is readable, writable
/// or hung up. Called on the loop's thread only.
public protocol EventHandler: AnyObject {
    func readable(_ loop: EventLoop)
    func writable(_ loop: EventLoop)
    /// The peer hung up or the descriptor failed; the handler should close and deregister.
    func hangup(_ loop: EventLoop)
}

/// One epoll event loop on one thread (the server runs one per core). Level-triggered; a
/// handler asks for write readiness only while it has bytes waiting, and stops asking for read
/// readiness to exert back-pressure. Cross-thread work arrives through `execute`, woken by an
/// eventfd; timers are a min-heap consulted for epoll's timeout.
///
/// Everything but `execute` and `stop` must be called on the loop's thread.
public final class EventLoop: @unchecked Sendable {
    /// What a registration waits for.
    public struct Interest: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let read = Interest(rawValue: CHUB_EPOLLIN)
        public static let write = Interest(rawValue: CHUB_EPOLLOUT)

        /// The epoll events to ask for. A peer's half-close (EPOLLRDHUP) is asked for only
        /// with `read`: it is level-triggered, so a handler that has stopped reading (back-
        /// pressure) would otherwise be woken by every `epoll_wait` until it reads again — a
        /// busy loop. It sees the end of stream when it reads again; EPOLLHUP and EPOLLERR
        /// (the connection is gone) are always reported.
        var epollEvents: UInt32 { contains(.read) ? rawValue | CHUB_EPOLLRDHUP : rawValue }
    }

    /// Identifies a registration: slot index and generation (a stale event for a reused slot
    /// is ignored).
    public struct Token: Hashable, Sendable {
        let slot: UInt32
        let generation: UInt32
        var raw: UInt64 { UInt64(generation) << 32 | UInt64(slot) }
    }

    private struct Registration {
        var fd: Int32
        var generation: UInt32
        var handler: (any EventHandler)?
        /// What epoll waits for now (`modify` skips the syscall when it would not change).
        var interest: Interest
    }

    private let epoll: Int32
    private let wakeup: Int32
    private var registrations: [Registration] = []
    private var freeSlots: [UInt32] = []
    private var timers = TimerHeap()
    private var threadID: pthread_t?

    private let lock = NSLockless()
    private var pending: [@Sendable () -> Void] = []  // guarded by `lock`
    private let wakeupCount = Atomic<Int>(0)
    private var stopping = false  // guarded by `lock`
    /// An eventfd write is outstanding that the loop has not yet answered by taking `pending`:
    /// further `execute` calls only queue (one wake-up per burst, e.g. per audit group).
    private var wakeupPosted = false  // guarded by `lock`

    public init() throws(NetError) {
        epoll = try Sockets.check(chub_epoll_create(), "epoll_create1", "event loop")
        let event = chub_eventfd()
        guard event >= 0 else {
            Sockets.close(epoll)
            throw NetError(operation: "eventfd", target: "event loop", errno: errno)
        }
        wakeup = event
        _ = try Sockets.check(chub_epoll_ctl(epoll, 1, wakeup, CHUB_EPOLLIN, UInt64.max), "epoll_ctl", "eventfd")
    }

    deinit {
        Sockets.close(wakeup)
        Sockets.close(epoll)
    }

    /// Whether the caller runs on this loop's thread.
    public var inLoop: Bool {
        guard let threadID else { return false }
        return pthread_equal(threadID, pthread_self()) != 0
    }

    // MARK: Registrations

    /// Watches `fd` for `interest`, calling `handler`. The loop does not own `fd`.
    public func register(_ fd: Int32, interest: Interest, handler: any EventHandler) throws(NetError) -> Token {
        let slot: UInt32
        if let free = freeSlots.popLast() {
            slot = free
            registrations[Int(slot)].fd = fd
            registrations[Int(slot)].handler = handler
            registrations[Int(slot)].interest = interest
        } else {
            slot = UInt32(registrations.count)
            registrations.append(Registration(fd: fd, generation: 1, handler: handler, interest: interest))
        }
        let token = Token(slot: slot, generation: registrations[Int(slot)].generation)
        do {
            _ = try Sockets.check(chub_epoll_ctl(epoll, 1, fd, interest.epollEvents, token.raw), "epoll_ctl", "fd \(fd)")
        } catch {
            release(slot)
            throw error
        }
        return token
    }

    /// Changes what `token` waits for (no `epoll_ctl` when it already waits for exactly that).
    public func modify(_ token: Token, interest: Interest) {
        guard let registration = live(token), registration.interest != interest else { return }
        registrations[Int(token.slot)].interest = interest
        _ = chub_epoll_ctl(epoll, 3, registration.fd, interest.epollEvents, token.raw)
    }

    /// Stops watching; the handler gets no further calls (the caller closes the descriptor).
    public func deregister(_ token: Token) {
        guard let registration = live(token) else { return }
        _ = chub_epoll_ctl(epoll, 2, registration.fd, 0, 0)
        release(token.slot)
    }

    /// How many times `epoll_wait` has returned: an idle loop wakes only for its timers, so a
    /// fast-growing count with nothing to do is a busy loop (for tests and metrics).
    public var wakeups: Int { wakeupCount.load(ordering: .relaxed) }

    /// Number of live registrations (for tests and metrics).
    public var registrationCount: Int { registrations.count - freeSlots.count }

    private func live(_ token: Token) -> Registration? {
        guard Int(token.slot) < registrations.count else { return nil }
        let registration = registrations[Int(token.slot)]
        guard registration.generation == token.generation, registration.handler != nil else { return nil }
        return registration
    }

    private func release(_ slot: UInt32) {
        registrations[Int(slot)].handler = nil
        registrations[Int(slot)].fd = -1
        registrations[Int(slot)].generation &+= 1
        freeSlots.append(slot)
    }

    // MARK: Timers

    /// Runs `task` on this loop after `seconds` (monotonic clock). Loop thread only.
    @discardableResult
    public func schedule(after seconds: Double, _ task: @escaping () -> Void) -> TimerHeap.ID {
        timers.insert(deadline: Monotonic.now() + seconds, task)
    }

    /// Cancels a timer that has not fired yet.
    public func cancel(_ timer: TimerHeap.ID) {
        timers.cancel(timer)
    }

    // MARK: Cross-thread

    /// Runs `task` on the loop's thread soon. Safe from any thread.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        let post = lock.withLock { () -> Bool in
            pending.append(task)
            if wakeupPosted { return false }
            wakeupPosted = true
            return true
        }
        guard post else { return }
        var one: UInt64 = 1
        _ = Glibc.write(wakeup, &one, 8)
    }

    /// Makes `run` return after the current iteration. Safe from any thread.
    public func stop() {
        lock.withLock { stopping = true }
        var one: UInt64 = 1
        _ = Glibc.write(wakeup, &one, 8)
    }

    // MARK: Running

    /// Runs the loop on the calling thread until `stop`.
    public func run() {
        threadID = pthread_self()
        let capacity = 256
        let events = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        let tokens = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        defer {
            events.deallocate()
            tokens.deallocate()
        }
        while true {
            let timeout = timers.millisecondsUntilNext(now: Monotonic.now())
            let count = chub_epoll_wait(epoll, events, tokens, Int32(capacity), timeout)
            wakeupCount.add(1, ordering: .relaxed)
            for index in 0..<max(0, Int(count)) {
                dispatch(events[index], tokens[index])
            }
            // Popped first, run after: a timer task may schedule or cancel timers.
            for task in timers.popExpired(now: Monotonic.now()) { task() }
            let (tasks, stop) = lock.withLock { () -> ([@Sendable () -> Void], Bool) in
                let tasks = pending
                pending.removeAll()
                wakeupPosted = false
                return (tasks, stopping)
            }
            for task in tasks { task() }
            if stop { return }
        }
    }

    private func dispatch(_ events: UInt32, _ raw: UInt64) {
        if raw == UInt64.max {  // the wakeup eventfd
            var value: UInt64 = 0
            _ = Glibc.read(wakeup, &value, 8)
            return
        }
        let token = Token(slot: UInt32(truncatingIfNeeded: raw), generation: UInt32(truncatingIfNeeded: raw >> 32))
        if events & (CHUB_EPOLLERR | CHUB_EPOLLHUP) != 0 {
            live(token)?.handler?.hangup(self)
            return
        }
        if events & CHUB_EPOLLIN != 0 || events & CHUB_EPOLLRDHUP != 0 {
            live(token)?.handler?.readable(self)
        }
        if events & CHUB_EPOLLOUT != 0 {
            live(token)?.handler?.writable(self)
        }
    }
}

/// A pthread mutex (the loop's cross-thread queue needs nothing more).
final class NSLockless: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

/// `CLOCK_MONOTONIC` in seconds.
enum Monotonic {
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// Timers of one loop: a binary min-heap on deadline; cancellation marks an id dead.
public struct TimerHeap {
    public struct ID: Hashable, Sendable { let value: UInt64 }

    private var heap: [(deadline: Double, id: UInt64)] = []
    private var tasks: [UInt64: () -> Void] = [:]
    private var next: UInt64 = 1

    mutating func insert(deadline: Double, _ task: @escaping () -> Void) -> ID {
        let id = next
        next += 1
        tasks[id] = task
        heap.append((deadline, id))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
        return ID(value: id)
    }

    mutating func cancel(_ id: ID) { tasks[id.value] = nil }

    /// epoll's timeout: -1 with no timers, else the milliseconds to the earliest (rounded up).
    mutating func millisecondsUntilNext(now: Double) -> Int32 {
        while let first = heap.first, tasks[first.id] == nil { pop() }
        guard let first = heap.first else { return -1 }
        return Int32(max(0, min(Double(Int32.max), ((first.deadline - now) * 1000).rounded(.up))))
    }

    mutating func popExpired(now: Double) -> [() -> Void] {
        var due: [() -> Void] = []
        while let first = heap.first, first.deadline <= now {
            pop()
            if let task = tasks.removeValue(forKey: first.id) { due.append(task) }
        }
        return due
    }

    private mutating func pop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
