import { lazy, Suspense } from "react";
import { Navigate, Route, Routes } from "react-router-dom";
import { RequireAuth } from "./auth";
import { Layout } from "./components/Layout";
import { Loading } from "./components/States";
import { ConversationView } from "./pages/inbox/ConversationView";
import { Inbox } from "./pages/inbox/Inbox";
import { Login } from "./pages/Login";

// Pages other than the inbox load on demand, keeping the inbox's first paint small.
const Customers = lazy(() => import("./pages/Customers"));
const CustomerDetail = lazy(() => import("./pages/CustomerDetail"));
const Analytics = lazy(() => import("./pages/Analytics"));
const Assistants = lazy(() => import("./pages/Assistants"));
const Knowledge = lazy(() => import("./pages/Knowledge"));
const Models = lazy(() => import("./pages/Models"));
const Datasets = lazy(() => import("./pages/Datasets"));
const Settings = lazy(() => import("./pages/Settings"));

export function App() {
  return (
    <Suspense fallback={<Loading />}>
      <Routes>
        <Route path="/login" element={<Login />} />
        <Route
          element={
            <RequireAuth>
              <Layout />
            </RequireAuth>
          }
        >
          <Route index element={<Navigate to="/inbox" replace />} />
          <Route path="inbox" element={<Inbox />}>
            <Route path=":conversationId" element={<ConversationView />} />
          </Route>
          <Route path="customers" element={<Customers />} />
          <Route path="customers/:customerId" element={<CustomerDetail />} />
          <Route path="analytics/*" element={<Analytics />} />
          <Route path="assistants/*" element={<Assistants />} />
          <Route path="knowledge/*" element={<Knowledge />} />
          <Route path="models/*" element={<Models />} />
          <Route path="datasets/*" element={<Datasets />} />
          <Route path="settings/*" element={<Settings />} />
          <Route path="*" element={<p>Page not found.</p>} />
        </Route>
      </Routes>
    </Suspense>
  );
}
